// The reduced migration drill for consul: see drill-case.ts.
import { drillCase } from './drill-case.ts';

drillCase('consul');
