export { Catalog, type CatalogEntry } from './catalog.ts';
