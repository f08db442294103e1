/** Environment variables the remote backend reads (here and nowhere else). */
export interface RemoteEnvironment {
  /** `SLMKIT_REMOTE_API_KEY`: bearer token sent when no apiKey is passed. */
  apiKey?: string;
  /** `SLMKIT_REMOTE_BASE_URL`: server URL used when no baseUrl is passed. */
  baseUrl?: string;
}

export function readRemoteEnvironment(env: NodeJS.ProcessEnv = process.env): RemoteEnvironment {
  return {
    ...(env.SLMKIT_REMOTE_API_KEY ? { apiKey: env.SLMKIT_REMOTE_API_KEY } : {}),
    ...(env.SLMKIT_REMOTE_BASE_URL ? { baseUrl: env.SLMKIT_REMOTE_BASE_URL } : {}),
  };
}
