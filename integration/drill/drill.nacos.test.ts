// The reduced migration drill for nacos: see drill-case.ts.
import { drillCase } from './drill-case.ts';

drillCase('nacos');
