export default { name: "", base: "seed", overrides: {} };
