// The reduced migration drill for dubbo: see drill-case.ts.
import { drillCase } from './drill-case.ts';

drillCase('dubbo');
