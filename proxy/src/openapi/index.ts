/** OpenAPI → MCP tools: loading specs, generating tools, caching them, building upstream requests. */
export { ToolCache, type ToolCacheOptions } from './cache';
export {
  RequestBuildError,
  type RequestBuildErrorCode,
  SpecError,
  type SpecErrorCode,
} from './errors';
export { type GenerateOptions, generateTools } from './generate';
export { type LoadedSpec, type LoadOptions, loadSpec, parseSpecText } from './load';
export { TOOL_NAME_PATTERN } from './names';
export { addressRefusal, type FetchLimits, fetchText } from './network';
export { buildUpstreamRequest } from './request';
