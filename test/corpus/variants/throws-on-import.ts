throw new Error("refusing to load");
export default { name: "x", base: "seed", overrides: {} };
