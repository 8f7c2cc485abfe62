import { boundaryTests, GROUPS } from './steps-boundaries.js';

boundaryTests(GROUPS.middle);
