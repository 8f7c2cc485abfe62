export default { name: "x", base: "xen-9", overrides: {} };
