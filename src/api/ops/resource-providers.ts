/**
 * The writes of /resource_providers, as placement's ResourceProvider object
 * makes them: create (optionally under a parent), rename and re-parent,
 * destroy with everything that hangs off a provider. Each runs in one
 * transaction; the rules and the words of their refusals are placement's.
 */
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../context.js';
import { ApiError, badRequest, ErrorCode } from '../errors.js';
import type { PlacementStore, ProviderRow } from '../store/index.js';

/** What POST /resource_providers asks for. */
export interface NewProvider {
  name: string;
  uuid?: string;
  /** From 1.14; null or absent: a root. */
  parentUuid?: string | null;
}

/** What the create answers with: the row as placement's object holds it after create(). */
export interface CreatedProvider {
  uuid: string;
  name: string;
  generation: number;
  parent_provider_uuid: string | null;
  root_provider_uuid: string;
}

/** Python's str(uuid.UUID(value)): the dashed lower-case form. */
export function canonicalUuid(value: string): string {
  const hex = value
    .replace(/urn:/g, '')
    .replace(/uuid:/g, '')
    .replace(/^[{}]+|[{}]+$/g, '')
    .replace(/-/g, '')
    .toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** placement's ObjectActionError text. */
function actionError(action: string, reason: string): string {
  return `Object action ${action} failed because: ${reason}`;
}

/** Thrown inside a transaction to have it run again from the start. */
class RunAgain extends Error {}

/** Runs `work` in a transaction, again (a few times) when it asks to. */
async function withRerun<T>(
  ctx: RequestContext,
  work: (tx: PlacementStore) => Promise<T>,
  onExhausted: () => ApiError,
  attempts = 10,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.store.transaction(work);
    } catch (err) {
      if (!(err instanceof RunAgain)) throw err;
      if (attempt >= attempts) throw onExhausted();
    }
  }
}

/**
 * POST /resource_providers. A name or UUID already taken is a 409
 * (placement.duplicate_name); a parent that does not exist, or the
 * provider itself as parent, a 400.
 */
export async function createProvider(
  ctx: RequestContext,
  input: NewProvider,
): Promise<CreatedProvider> {
  const uuid = input.uuid ? canonicalUuid(input.uuid) : randomUUID();
  const parentUuid = input.parentUuid ?? null;
  const refuse = (reason: string) =>
    badRequest(
      `Unable to create resource provider "${input.name}", ${uuid}: ${actionError('create', reason)}`,
    );
  if (!input.name) throw refuse('name is required');
  try {
    return await ctx.store.transaction(async (tx) => {
      let parentId: number | null = null;
      let rootId: number | null = null;
      let rootUuid = uuid;
      if (parentUuid !== null) {
        if (parentUuid === uuid) {
          throw refuse(
            'parent provider UUID cannot be same as UUID. Please set parent provider UUID to None if there is no parent.',
          );
        }
        const parent = await tx.providers.idsOf(parentUuid);
        if (!parent) throw refuse('parent provider UUID does not exist.');
        parentId = parent.id;
        rootId = parent.rootId;
        rootUuid = parent.rootUuid;
      }
      await tx.providers.create({ uuid, name: input.name, parentId, rootId });
      return {
        uuid,
        name: input.name,
        generation: 0,
        parent_provider_uuid: parentUuid,
        root_provider_uuid: rootUuid,
      };
    });
  } catch (err) {
    const dialect = ctx.store.db.dialect;
    if (dialect.isUniqueViolation(err)) throw await duplicateProvider(ctx, err, uuid, input.name);
    // The parent went between the lookup and the insert.
    if (dialect.isForeignKeyViolation(err)) throw refuse('parent provider UUID does not exist.');
    throw err;
  }
}

/**
 * The 409 of a create whose UUID or name is taken, naming what the
 * database reported (placement's words per column); when the driver names
 * nothing, the column is found by looking.
 */
async function duplicateProvider(ctx: RequestContext, err: unknown, uuid: string, name: string) {
  const values: Record<string, string> = { uuid, name };
  let columns = ctx.store.db.dialect.uniqueViolationColumns(err);
  if (columns.length === 0) {
    const nameTaken =
      (await ctx.store.providers.list({ uuid })).length === 0 &&
      (await ctx.store.providers.list({ name })).length > 0;
    columns = [nameTaken ? 'name' : 'uuid'];
  }
  const duplicate = columns.map((c) => `${c}: ${values[c] ?? ''}`).join(', ');
  return new ApiError(409, `Conflicting resource provider ${duplicate} already exists.`, {
    code: ErrorCode.DUPLICATE_NAME,
  });
}

/** What PUT /resource_providers/{uuid} changes. */
export interface ProviderUpdate {
  name: string;
  /** Present from 1.14 when the body names it (null: make it a root). */
  parentUuid?: string | null;
}

/** The provider as placement's object holds it after save(): generation and updated_at as read. */
export type UpdatedProvider = ProviderRow;

/**
 * PUT /resource_providers/{uuid}: renames, and moves the provider in or
 * between trees. Before 1.37 a provider with a parent keeps it; a loop is
 * refused at every version.
 */
export async function updateProvider(
  ctx: RequestContext,
  rp: ProviderRow,
  update: ProviderUpdate,
  allowReparenting: boolean,
): Promise<UpdatedProvider> {
  // The path's UUID, as the caller wrote it (MySQL finds it in any case).
  const named = ctx.param('uuid');
  const refuse = (action: string, reason: string) =>
    badRequest(`Unable to save resource provider ${named}: ${actionError(action, reason)}`);
  const parentUuid = update.parentUuid !== undefined ? update.parentUuid : rp.parent_provider_uuid;
  try {
    return await ctx.store.transaction(async (tx) => {
      const me = await tx.providers.idsOf(rp.uuid);
      // Someone deleted it since the handler found it.
      if (!me) throw refuse('update', 'parent provider UUID does not exist.');
      const changes: { name?: string; parentId?: number | null; rootId?: number } = {};
      if (update.name !== me.name) changes.name = update.name;
      let root = { id: me.rootId, uuid: me.rootUuid };
      let moved: number[] = [];
      if (parentUuid !== null) {
        const parent = await tx.providers.idsOf(parentUuid);
        if (!parent) throw refuse('create', 'parent provider UUID does not exist.');
        if (me.parentId !== null && me.parentId !== parent.id && !allowReparenting) {
          throw refuse('update', 're-parenting a provider is not currently allowed.');
        }
        const subtree = await subtreeOf(tx, me.rootId, rp.uuid);
        if (subtree.some((p) => p.uuid === parentUuid)) {
          throw refuse('update', 'creating loop in the provider tree is not allowed.');
        }
        if (me.parentId !== parent.id) changes.parentId = parent.id;
        root = { id: parent.rootId, uuid: parent.rootUuid };
        moved = subtree.filter((p) => p.id !== me.id).map((p) => p.id);
      } else if (me.parentId !== null) {
        if (!allowReparenting) {
          throw refuse('update', 'un-parenting a provider is not currently allowed.');
        }
        const subtree = await subtreeOf(tx, me.rootId, rp.uuid);
        changes.parentId = null;
        root = { id: me.id, uuid: me.uuid };
        moved = subtree.filter((p) => p.id !== me.id).map((p) => p.id);
      }
      if (root.id !== me.rootId) {
        changes.rootId = root.id;
        await tx.providers.setRoot(moved, root.id);
      }
      await tx.providers.update(me.id, changes);
      return {
        ...rp,
        name: update.name,
        parent_provider_uuid: parentUuid,
        root_provider_uuid: root.uuid,
      };
    });
  } catch (err) {
    const dialect = ctx.store.db.dialect;
    if (dialect.isUniqueViolation(err)) {
      throw new ApiError(409, `Conflicting resource provider ${update.name} already exists.`, {
        code: ErrorCode.DUPLICATE_NAME,
      });
    }
    if (dialect.isForeignKeyViolation(err)) {
      throw refuse('update', 'parent provider UUID does not exist.');
    }
    throw err;
  }
}

/** The provider and all its descendants (ResourceProvider.get_subtree). */
async function subtreeOf(tx: PlacementStore, rootId: number, uuid: string): Promise<ProviderRow[]> {
  const tree = await tx.providers.list({ rootId });
  const children = new Map<string, ProviderRow[]>();
  for (const p of tree) {
    if (p.parent_provider_uuid === null) continue;
    const list = children.get(p.parent_provider_uuid) ?? [];
    list.push(p);
    children.set(p.parent_provider_uuid, list);
  }
  const out: ProviderRow[] = [];
  const seen = new Set<string>();
  const walk = (u: string) => {
    if (seen.has(u)) return;
    seen.add(u);
    const self = tree.find((p) => p.uuid === u);
    if (self) out.push(self);
    for (const c of children.get(u) ?? []) walk(c.uuid);
  };
  walk(uuid);
  return out;
}

/**
 * DELETE /resource_providers/{uuid}: refused while the provider has
 * children or allocations. The provider's generation is bumped first, so
 * an allocation written meanwhile (which bumps it too) is either seen or
 * makes this run again.
 */
export async function deleteProvider(ctx: RequestContext, uuid: string): Promise<void> {
  const notFound = () =>
    new ApiError(404, `No resource provider with uuid ${uuid} found for delete`);
  const hasChildren = () =>
    new ApiError(
      409,
      `Unable to delete parent resource provider ${uuid}: It has child resource providers.`,
      { code: ErrorCode.PROVIDER_CANNOT_DELETE_PARENT },
    );
  try {
    await withRerun(
      ctx,
      async (tx) => {
        const rp = await tx.providers.byUuid(uuid);
        if (!rp) throw notFound();
        if (!(await tx.providers.bumpGeneration(rp.id, rp.generation))) throw new RunAgain();
        if (await tx.providers.hasChildren(rp.id)) throw hasChildren();
        if (await tx.providers.hasAllocations(rp.id)) {
          throw new ApiError(
            409,
            `Unable to delete resource provider ${uuid}: Resource provider has allocations.`,
            { code: ErrorCode.PROVIDER_IN_USE },
          );
        }
        if ((await tx.providers.destroy(rp.id)) === 0) throw notFound();
      },
      () =>
        new ApiError(
          409,
          'Another thread concurrently updated the resource provider data. Please retry your update',
          { code: ErrorCode.CONCURRENT_UPDATE },
        ),
    );
  } catch (err) {
    // A child was added since the check.
    if (ctx.store.db.dialect.isForeignKeyViolation(err)) throw hasChildren();
    throw err;
  }
}
