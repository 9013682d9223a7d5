// One retention chain as text: takes a PathView and gives the lines the
// live screen's path pane shows, every hop of it, for printing — the last
// path opened is left in the terminal's scrollback when heaptop quits, and
// the --once report prints findings' chains the same way.
import React from 'react';
import {renderToString} from 'ink';
import type {PathView as Path} from '../store/navigation.js';
import PathView from '../views/PathView.js';

export function renderPathText(path: Path, {columns, ascii = false}: {columns: number; ascii?: boolean}): string {
	return renderToString(<PathView path={path} focused={false} width={columns} ascii={ascii} />, {columns});
}
