export { expandEnv } from './env';
export {
  ConfigError,
  type ConfigErrorCode,
  loadConfig,
  type ProxyConfig,
  parseConfig,
  type ServerSettings,
} from './load';
