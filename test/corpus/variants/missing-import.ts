import { nothing } from "./does-not-exist.js";
export default { name: "x", base: "seed", overrides: { relinquishPhases: nothing } };
