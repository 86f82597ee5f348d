// Bun imports these as strings (`with { type: "text" }`), which is how the binary embeds them.
declare module "*.sql" {
  const text: string;
  export default text;
}
