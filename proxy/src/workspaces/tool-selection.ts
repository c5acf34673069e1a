/** Which generated tools a workspace exposes: pure functions over `ToolSelection`. */
import type { ToolSelection } from '../types';

/** Every tool on: the default. */
export const ALL_TOOLS: ToolSelection = { enabled: 'all', disabled: [] };

/** True when the selection exposes the tool `name`. */
export function isToolEnabled(selection: ToolSelection, name: string): boolean {
  if (selection.disabled.includes(name)) return false;
  return selection.enabled === 'all' || selection.enabled.includes(name);
}

/** The selection with `names` turned on. */
export function enableTools(selection: ToolSelection, names: string[]): ToolSelection {
  const disabled = selection.disabled.filter((n) => !names.includes(n));
  if (selection.enabled === 'all') return { enabled: 'all', disabled };
  return { enabled: unique([...selection.enabled, ...names]), disabled };
}

/** The selection with `names` turned off. */
export function disableTools(selection: ToolSelection, names: string[]): ToolSelection {
  if (selection.enabled === 'all') {
    return { enabled: 'all', disabled: unique([...selection.disabled, ...names]) };
  }
  return {
    enabled: selection.enabled.filter((n) => !names.includes(n)),
    disabled: selection.disabled,
  };
}

function unique(names: string[]): string[] {
  return [...new Set(names)].sort();
}
