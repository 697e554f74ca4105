// class-transformer 0.5.1 ships no declaration next to `cjs/storage.js` (see compiled-body-check.ts).
declare module 'class-transformer/cjs/storage.js' {
  import type { MetadataStorage } from 'class-transformer/types/MetadataStorage.js';
  export const defaultMetadataStorage: MetadataStorage;
}
