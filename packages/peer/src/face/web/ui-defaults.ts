/** The port `peer ui` serves on unless told otherwise (PEER_UI_PORT, --ui-port). Apart from the server so settings need not load it. */
export const DEFAULT_UI_PORT = 7080;
