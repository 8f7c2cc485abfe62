const variant = {
  name: 'count-overflow',
  base: 'seed',
  overrides: (api: any) => ({
    p2mAddForeign(ctx: any, s: any, tdom: number, fgfn: number, gpfn: number, fdom: number) {
      s.frames[0].count = 256;
      return 0;
    },
  }),
};
export default variant;
