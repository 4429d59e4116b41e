/**
 * The consumer side of an allocation write, as placement's
 * handlers/util.py ensure_consumer and update_consumers do it: the
 * project, user, consumer type and consumer rows are found or created
 * first, each committed on its own (so a racing request can read what the
 * other created), the consumer generation is checked (1.28), and only the
 * allocation transaction itself moves a consumer to another project, user
 * or type. A consumer created here is deleted again when the write fails,
 * while the projects, users and types stay, as they do in placement.
 */
import { ObjectNotFound, type RequestContext } from '../context.js';
import { ApiError, ErrorCode } from '../errors.js';
import { isPyDict, pyFloatRepr, PyFloat, type PyJson } from '../py-json.js';
import type { ConsumerLinks, PlacementStore } from '../store/index.js';

/** A project or user row: its id, and its Keystone id as stored. */
export interface External {
  id: number;
  externalId: string;
}

/** A consumer as the write found or created it (placement's Consumer object). */
export interface Consumer {
  id: number;
  uuid: string;
  generation: number;
  typeId: number | null;
  project: External;
  user: External;
}

/** What the request asks the consumer to belong to (placement's RequestAttr). */
export interface RequestedOwner {
  project: External;
  user: External;
  /** null below 1.38. */
  typeId: number | null;
}

export interface EnsuredConsumer {
  consumer: Consumer;
  /** Created by this request: deleted again if the write fails. */
  created: boolean;
  requested: RequestedOwner;
}

/** The consumer fields of a request body, as the schema let them through. */
export interface ConsumerFields {
  project_id?: string;
  user_id?: string;
  consumer_generation?: number | null;
  consumer_type?: string;
  /** Python's str() of consumer_generation as sent (2.0 stays 2.0, a big int all its digits). */
  generationText?: string;
}

/** Python's str() of a JSON value as parsed: None, an int, a float. */
function pyStr(v: PyJson | undefined): string {
  if (v === null || v === undefined) return 'None';
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  return String(v);
}

/**
 * Notes how Python would print the consumer generation of a consumer's
 * body (`raw`, as parsed, before its numbers became JavaScript's) in the
 * conflict message.
 */
export function withGenerationText<T extends ConsumerFields>(plain: T, raw: PyJson | undefined): T {
  if (!isPyDict(raw) || !raw.has('consumer_generation')) return plain;
  return { ...plain, generationText: pyStr(raw.get('consumer_generation')) };
}

function generationConflict(detail: string): ApiError {
  return new ApiError(409, `consumer generation conflict - ${detail}`, {
    code: ErrorCode.CONCURRENT_UPDATE,
  });
}

/** Finds or creates a project or user row by its Keystone id. */
async function ensureExternal(
  store: PlacementStore,
  table: 'projects' | 'users',
  externalId: string,
): Promise<External> {
  const read = async (): Promise<External | null> => {
    const row = await store.consumers.externalRow(table, externalId);
    return row && { id: row.id, externalId: row.externalId };
  };
  const found = await read();
  if (found) return found;
  const id = await store.consumers.insertExternal(table, externalId);
  if (id !== null) return { id, externalId };
  // Another request created it meanwhile.
  const raced = await read();
  if (raced) return raced;
  const what = table === 'projects' ? 'project' : 'user';
  throw new ObjectNotFound(`No such ${what}(s): ${externalId}.`);
}

/** The id of a consumer type, created when it does not exist yet (get_or_create_consumer_type_id). */
async function ensureConsumerType(store: PlacementStore, name: string): Promise<number> {
  for (;;) {
    const id =
      (await store.consumers.consumerTypeId(name)) ??
      (await store.consumers.insertConsumerType(name));
    if (id !== null) return id;
  }
}

/**
 * Finds the consumer, or creates it with its project and user, and checks
 * the generation the request expects (from 1.28: null for a consumer that
 * does not exist yet). Before 1.8 the consumer belongs to the incomplete
 * consumer project and user.
 */
export async function ensureConsumer(
  ctx: RequestContext,
  uuid: string,
  fields: ConsumerFields,
): Promise<EnsuredConsumer> {
  const store = ctx.store;
  const checkGeneration = ctx.version.atLeast('1.28');
  // A schema from before Xena has no consumer types to keep.
  const typed = ctx.version.atLeast('1.38') && (await store.hasConsumerTypes());
  let projectId = fields.project_id;
  let userId = fields.user_id;
  if (projectId === undefined) {
    // Before 1.8: placement.conf's incomplete consumer project and user.
    projectId = ctx.settings.incompleteConsumerProjectId;
    userId = ctx.settings.incompleteConsumerUserId;
  }
  const project = await ensureExternal(store, 'projects', projectId);
  const user = await ensureExternal(
    store,
    'users',
    userId ?? ctx.settings.incompleteConsumerUserId,
  );
  const expected = fields.consumer_generation ?? null;
  const got = fields.generationText ?? pyStr(expected);

  const existing = await store.consumers.byUuid(uuid);
  let typeId: number | null = null;
  let consumer: Consumer;
  let created = false;
  if (existing) {
    if (checkGeneration && existing.generation !== expected) {
      throw generationConflict(`expected ${existing.generation} but got ${got}`);
    }
    if (typed) typeId = await ensureConsumerType(store, fields.consumer_type ?? '');
    consumer = fromRow(existing);
  } else {
    if (checkGeneration && expected !== null) {
      throw generationConflict(`expected null but got ${got}`);
    }
    if (typed) typeId = await ensureConsumerType(store, fields.consumer_type ?? '');
    const links: ConsumerLinks = { projectId: project.id, userId: user.id, typeId };
    const id = await store.consumers.insert(uuid, links);
    if (id !== null) {
      consumer = { id, uuid, generation: 0, typeId, project, user };
      created = true;
    } else {
      // Another request created it meanwhile: take it, with the type asked for.
      const raced = await store.consumers.byUuid(uuid);
      if (!raced) throw new ObjectNotFound(`No such consumer(s): ${uuid}.`);
      // placement takes it whatever its generation, so two claims of a new
      // consumer can both succeed, the second replacing the first. The
      // request expected no consumer: answer as if it had come a moment later.
      if (checkGeneration) {
        throw generationConflict(`expected ${raced.generation} but got ${got}`);
      }
      consumer = fromRow(raced);
      if (typeId !== consumer.typeId) {
        consumer.typeId = typeId;
        await store.consumers.update(consumer.id, consumer.generation, linksOf(consumer));
      }
    }
  }
  return { consumer, created, requested: { project, user, typeId } };
}

function fromRow(row: NonNullable<Awaited<ReturnType<PlacementStore['consumers']['byUuid']>>>) {
  return {
    id: row.id,
    uuid: row.uuid,
    generation: row.generation,
    typeId: row.consumer_type_id,
    project: { id: row.project_id, externalId: row.project_external_id },
    user: { id: row.user_id, externalId: row.user_external_id },
  };
}

function linksOf(c: Consumer): ConsumerLinks {
  return { projectId: c.project.id, userId: c.user.id, typeId: c.typeId };
}

/**
 * Inside the allocation transaction: moves each consumer to the project,
 * user and type its request names, where they differ, without a new
 * generation (the allocation write bumps it). Guarded by the generation
 * read before, so a consumer changed meanwhile is left alone and its
 * generation bump fails instead.
 */
export async function updateConsumers(
  tx: PlacementStore,
  consumers: readonly EnsuredConsumer[],
): Promise<void> {
  for (const { consumer, requested } of consumers) {
    const links = linksOf(consumer);
    let changed = false;
    if (
      requested.project.externalId !== consumer.project.externalId ||
      requested.user.externalId !== consumer.user.externalId
    ) {
      links.projectId = requested.project.id;
      links.userId = requested.user.id;
      changed = true;
    }
    // placement tests the type id for truth: 0 and null leave the type alone.
    if (requested.typeId && requested.typeId !== consumer.typeId) {
      links.typeId = requested.typeId;
      changed = true;
    }
    if (changed) await tx.consumers.update(consumer.id, consumer.generation, links);
  }
}

/**
 * Deletes the consumers a failed write created (placement's
 * delete_consumers); never throws. Unlike placement, a consumer another
 * request has claimed with meanwhile (it found the row this one created)
 * is kept: placement deletes it from under that request's allocations.
 */
export async function deleteCreatedConsumers(
  ctx: RequestContext,
  consumers: readonly EnsuredConsumer[],
): Promise<void> {
  for (const c of consumers) {
    if (!c.created) continue;
    try {
      await ctx.store.consumers.deleteUnused(c.consumer.id);
    } catch {
      // placement logs a warning and carries on with the original error.
    }
  }
}
