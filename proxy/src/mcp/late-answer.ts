/**
 * An answer decided while the MCP transport is already handling a request: the transport writes
 * its response only once every handler is done (JSON responses), so until its status line goes
 * out another answer can take its place. Used for a grant that ended during a tool call: the
 * client gets 401 with the challenge rather than a 200 tool error.
 */
import type { Response } from 'express';

/**
 * When the transport writes its status line and `replace()` holds, `answer(res)` is sent instead
 * and the transport's status, headers and body are dropped. Headers already sent change nothing.
 */
export function replaceAnswerWhen(
  res: Response,
  replace: () => boolean,
  answer: (res: Response) => void,
): void {
  const { writeHead } = res;
  res.writeHead = function (this: Response, ...args: unknown[]) {
    res.writeHead = writeHead;
    if (!replace()) return (writeHead as (...a: unknown[]) => Response).apply(this, args);
    answer(res);
    // The transport goes on to write its own body: dropped (this response is over anyway).
    res.write = () => true;
    res.end = (() => res) as Response['end'];
    return res;
  } as Response['writeHead'];
}
