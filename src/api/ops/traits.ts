/**
 * The writes of /traits and /resource_providers/{uuid}/traits, as
 * placement's Trait object and ResourceProvider.set_traits make them.
 */
import { ObjectNotFound, type RequestContext } from '../context.js';
import { ApiError, badRequest, ErrorCode } from '../errors.js';
import { parseDbTime } from '../response.js';
import type { NamedRow, PlacementStore, ProviderRow } from '../store/index.js';

/** Custom traits only; Python's `$` also matches before a final newline, and so does this. */
const CUSTOM_TRAIT = /^CUSTOM_[A-Z0-9_]+\n?$/;

const CONCURRENT_PROVIDER_UPDATE =
  'Another thread concurrently updated the resource provider data. Please retry your update';

/** The outcome of PUT /traits/{name}. */
export interface PutTraitResult {
  created: boolean;
  /** The trait's created_at, or now when another writer created it meanwhile. */
  lastModified: Date;
}

/**
 * PUT /traits/{name}: creates a custom trait, or finds it there already.
 * Two writers creating the same trait: one creates it, the other finds it.
 */
export async function putTrait(ctx: RequestContext, name: string): Promise<PutTraitResult> {
  if (!CUSTOM_TRAIT.test(name) || name.length > 255) {
    throw badRequest(
      'The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix "CUSTOM_" and use following characters: "A"-"Z", "0"-"9" and "_"',
    );
  }
  try {
    const existing = await ctx.traits.byNameOrThrow(name);
    return { created: false, lastModified: parseDbTime(existing.created_at) ?? new Date() };
  } catch (err) {
    if (!(err instanceof ObjectNotFound)) throw err;
  }
  try {
    const trait = await ctx.store.transaction((tx) => tx.traits.create(name));
    return { created: true, lastModified: parseDbTime(trait.created_at) ?? new Date() };
  } catch (err) {
    if (!ctx.store.db.dialect.isUniqueViolation(err)) throw err;
    return { created: false, lastModified: new Date() };
  }
}

/** DELETE /traits/{name}: custom traits that no provider has. */
export async function deleteTrait(ctx: RequestContext, name: string): Promise<void> {
  const notFound = () => new ApiError(404, `No such trait(s): ${name}.`);
  try {
    await ctx.traits.byNameOrThrow(name);
  } catch (err) {
    if (err instanceof ObjectNotFound) throw notFound();
    throw err;
  }
  if (!name.startsWith('CUSTOM_')) throw badRequest(`Cannot delete standard trait ${name}.`);
  const inUse = () => new ApiError(409, `The trait ${name} is in use by a resource provider.`);
  try {
    await ctx.store.transaction(async (tx) => {
      const trait = await tx.traits.byName(name);
      if (!trait) throw notFound();
      if (await tx.traits.inUse(trait.id)) throw inUse();
      if ((await tx.traits.deleteByName(name)) === 0) throw notFound();
    });
  } catch (err) {
    // A provider got the trait since the check.
    if (ctx.store.db.dialect.isForeignKeyViolation(err)) throw inUse();
    throw err;
  }
}

/** The provider's traits and generation after a change. */
export interface ProviderTraits {
  traits: NamedRow[];
  generation: number | null;
}

/**
 * PUT /resource_providers/{uuid}/traits: replaces the provider's traits,
 * given the generation the caller saw. The generation moves only when the
 * set changes.
 */
export async function setProviderTraits(
  ctx: RequestContext,
  uuid: string,
  generation: number,
  names: string[],
): Promise<ProviderTraits> {
  const conflict = () =>
    new ApiError(
      409,
      "Resource provider's generation already changed. Please update the generation and try again.",
      { code: ErrorCode.CONCURRENT_UPDATE },
    );
  try {
    return await ctx.store.transaction(async (tx) => {
      const rp = await tx.providers.byUuid(uuid);
      if (!rp) throw new ObjectNotFound(`No resource provider with uuid ${uuid} found`, 'provider');
      if (rp.generation !== generation) throw conflict();
      // Hold the provider at that generation: another writer's change now waits or was seen.
      if (!(await tx.providers.lockAtGeneration(rp.id, generation))) throw conflict();
      const traits = await tx.traits.filtered({ nameIn: names });
      const found = new Set(traits.map((t) => t.name));
      const missing = [...new Set(names.filter((n) => !found.has(n)))];
      if (missing.length > 0) throw badRequest(`No such trait ${missing.join(', ')}`);
      const bumped = await replaceTraits(
        tx,
        rp,
        traits.map((t) => t.id),
      );
      if (bumped === false) throw conflict();
      return { traits, generation: bumped ?? rp.generation };
    });
  } catch (err) {
    // Another writer gave the provider one of these traits meanwhile.
    if (ctx.store.db.dialect.isUniqueViolation(err)) throw conflict();
    throw err;
  }
}

/**
 * Makes the provider's traits exactly `wanted` (_set_traits). Returns the
 * new generation, undefined when nothing changed, false when another writer
 * changed the provider first.
 */
async function replaceTraits(
  tx: PlacementStore,
  rp: ProviderRow,
  wanted: number[],
): Promise<number | undefined | false> {
  const existing = new Set(await tx.traits.idsOfProvider(rp.id));
  const want = new Set(wanted);
  const toAdd = [...want].filter((id) => !existing.has(id));
  const toDelete = [...existing].filter((id) => !want.has(id));
  if (toAdd.length === 0 && toDelete.length === 0) return undefined;
  await tx.traits.removeFromProvider(rp.id, toDelete);
  await tx.traits.addToProvider(rp.id, toAdd);
  if (!(await tx.providers.bumpGeneration(rp.id, rp.generation))) return false;
  return (rp.generation ?? 0) + 1;
}

/** DELETE /resource_providers/{uuid}/traits: the provider keeps none. */
export async function deleteProviderTraits(ctx: RequestContext, rp: ProviderRow): Promise<void> {
  const conflict = () =>
    new ApiError(409, CONCURRENT_PROVIDER_UPDATE, { code: ErrorCode.CONCURRENT_UPDATE });
  await ctx.store.transaction(async (tx) => {
    const bumped = await replaceTraits(tx, rp, []);
    if (bumped === false) throw conflict();
  });
}
