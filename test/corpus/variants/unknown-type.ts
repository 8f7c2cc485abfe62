const variant = {
  name: 'unknown-type',
  base: 'seed',
  overrides: (api: any) => ({
    p2mAddForeign(ctx: any, s: any, tdom: number, fgfn: number, gpfn: number, fdom: number) {
      s.p2m[tdom][gpfn] = { type: 'ram_weird', mfn: 0 };
      return 0;
    },
  }),
};
export default variant;
