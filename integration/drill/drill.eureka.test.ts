// The reduced migration drill for eureka: see drill-case.ts.
import { drillCase } from './drill-case.ts';

drillCase('eureka');
