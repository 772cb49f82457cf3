/** The versioned API base (CONTRACT §1), written once: every table builds its paths from it. */
export const API_V1 = '/api/v1';
