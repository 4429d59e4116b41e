/** The part of js-yaml 4 that the policy loader uses (the package ships no types). */
declare module 'js-yaml' {
  interface TypeOptions {
    kind: 'scalar' | 'sequence' | 'mapping';
    resolve?: (data: unknown) => boolean;
    construct?: (data: string) => unknown;
  }
  class Type {
    constructor(tag: string, options: TypeOptions);
  }
  class Schema {
    extend(types: { implicit?: Type[]; explicit?: Type[] } | Type[]): Schema;
  }
  class YAMLException extends Error {
    reason: string;
    mark?: { line: number; column: number };
  }
  interface LoadOptions {
    filename?: string;
    schema?: Schema;
    json?: boolean;
  }
  function load(text: string, options?: LoadOptions): unknown;
  const DEFAULT_SCHEMA: Schema;
  const yaml: {
    Type: typeof Type;
    YAMLException: typeof YAMLException;
    DEFAULT_SCHEMA: Schema;
    load: typeof load;
  };
  export { Type, Schema, YAMLException, load, DEFAULT_SCHEMA };
  export default yaml;
}
