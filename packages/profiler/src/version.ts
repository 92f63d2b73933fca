/** The tool name and version written into profiles. */
export const TOOL = { name: 'dnnpart', version: '0.1.0' } as const;
