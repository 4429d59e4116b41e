/**
 * placement's parsers for the structured query parameters (`resources`,
 * `required`, `member_of`), with their version gates and error messages.
 * Shared by GET /resource_providers now and /allocation_candidates later.
 */
import { badRequest } from './errors.js';
import type { Version } from './microversion.js';
import { pyIntText } from './py-format.js';
import type { QueryParams } from './query.js';
import { isUuidLike } from './uuid.js';

/** `resources=VCPU:2,MEMORY_MB:1024` → ordered map of amounts. */
export function normalizeResources(qs: string): Map<string, number> {
  if (qs.trim() === '') {
    throw badRequest(
      'Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: empty string.',
    );
  }
  const result = new Map<string, number>();
  for (const rt of qs.split(',')) {
    const parts = rt.split(':');
    if (parts.length !== 2) {
      throw badRequest(
        `Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: ${rt}.`,
      );
    }
    const [name = '', raw = ''] = parts;
    const exact = pyIntText(raw);
    if (exact === null) {
      throw badRequest(`Requested resource ${name} expected positive integer amount. Got: ${raw}.`);
    }
    const amount = Number(exact);
    if (amount < 1) {
      throw badRequest(`Requested resource ${name} requires amount >= 1. Got: ${exact}.`);
    }
    // Beyond MAX_INT no inventory can hold it: the store finds no provider, as placement does.
    result.set(name, amount);
  }
  return result;
}

/**
 * Required traits: each inner list is OR'ed, the lists are AND'ed; plus the
 * forbidden traits.
 */
export interface TraitFilter {
  required: string[][];
  forbidden: string[];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** One `required` value (util.normalize_traits_qs_param). */
export function normalizeTraitsParam(
  val: string,
  allowForbidden: boolean,
  allowAnyTraits: boolean,
): TraitFilter {
  if (val.startsWith('in:')) {
    if (!allowAnyTraits) {
      throw badRequest(
        `Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. Got: ${val}`,
      );
    }
    const any = unique(
      val
        .slice(3)
        .split(',')
        .map((s) => s.trim()),
    );
    if (!any.every((t) => t !== '')) {
      throw badRequest(
        `Invalid query string parameters: Expected 'required' parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: ${val}`,
      );
    }
    if (any.some((t) => t.startsWith('!'))) {
      throw badRequest(
        `Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden traits. Got: ${val}`,
      );
    }
    return { required: [any], forbidden: [] };
  }
  const all = val.split(',').map((s) => s.trim());
  const forbidden = unique(all.filter((t) => t.startsWith('!')).map((t) => t.replace(/^!+/, '')));
  if (![...forbidden, ...all].every((t) => t !== '')) {
    const form = allowForbidden ? 'HW_CPU_X86_VMX,!CUSTOM_MAGIC' : 'HW_CPU_X86_VMX,CUSTOM_MAGIC';
    throw badRequest(
      `Invalid query string parameters: Expected 'required' parameter value of the form: ${form}. Got an empty trait in: ${val}`,
    );
  }
  if (forbidden.length > 0 && !allowForbidden) {
    throw badRequest(
      `Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: ${val}`,
    );
  }
  return { required: all.filter((t) => !t.startsWith('!')).map((t) => [t]), forbidden };
}

/** Every `required` parameter (util.normalize_traits_qs_params): repeatable from 1.39. */
export function normalizeTraitsParams(query: QueryParams, v: Version, suffix = ''): TraitFilter {
  const allowForbidden = v.atLeast('1.22');
  const allowAny = v.atLeast('1.39');
  let values = query.getAll(`required${suffix}`);
  if (!allowAny) values = values.slice(-1);
  const result: TraitFilter = { required: [], forbidden: [] };
  for (const value of values) {
    const one = normalizeTraitsParam(value, allowForbidden, allowAny);
    result.required.push(...one.required);
    result.forbidden = unique([...result.forbidden, ...one.forbidden]);
  }
  return result;
}

/** Aggregates: each inner list is OR'ed, the lists are AND'ed; plus the forbidden ones. */
export interface AggregateFilter {
  required: string[][];
  forbidden: string[];
}

/** One `member_of` value (util.normalize_member_of_qs_param). */
function normalizeMemberOfParam(value: string): AggregateFilter {
  if (value.includes(',') && !(value.startsWith('in:') || value.startsWith('!in:'))) {
    throw badRequest(
      `Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using the valid microversion. Got: ${value}`,
    );
  }
  let required: string[] = [];
  let forbidden: string[] = [];
  if (value.startsWith('!in:')) forbidden = unique(value.slice(4).split(','));
  else if (value.startsWith('!')) forbidden = [value.slice(1)];
  else if (value.startsWith('in:')) required = unique(value.slice(3).split(','));
  else required = [value];
  for (const uuid of [...required, ...forbidden]) {
    if (!isUuidLike(uuid)) {
      throw badRequest(
        `Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: ${uuid}`,
      );
    }
  }
  return { required: required.length ? [required] : [], forbidden };
}

/** Every `member_of` parameter: repeatable from 1.24, forbidden (`!`) from 1.32. */
export function normalizeMemberOfParams(
  query: QueryParams,
  v: Version,
  suffix = '',
): AggregateFilter {
  const values = query.getAll(`member_of${suffix}`);
  if (!v.atLeast('1.24') && values.length > 1) {
    throw badRequest(`Multiple member_of${suffix} parameters are not supported`);
  }
  const result: AggregateFilter = { required: [], forbidden: [] };
  for (const value of values) {
    const one = normalizeMemberOfParam(value);
    result.required.push(...one.required);
    if (one.forbidden.length > 0) {
      if (!v.atLeast('1.32')) {
        throw badRequest(
          `Forbidden member_of${suffix} parameters are not supported in the specified microversion`,
        );
      }
      result.forbidden = unique([...result.forbidden, ...one.forbidden]);
    }
  }
  return result;
}
