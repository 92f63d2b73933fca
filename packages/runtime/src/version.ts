/** The agent's protocol and package version (an agent and a coordinator of different versions may not agree). */
export const AGENT_VERSION = '0.1.0';
