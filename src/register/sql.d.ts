// `.sql` files import as their text (wrangler's default module rules; `loader: { ".sql": "text" }` in
// tools/lab/sdk.mjs's esbuild build).
declare module "*.sql" {
  const text: string;
  export default text;
}
