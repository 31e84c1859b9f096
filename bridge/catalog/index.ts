export { Catalog, type CatalogEntry, type CatalogOptions } from './catalog.ts';
