#!/usr/bin/env node
// heaptop's executable entry. It only settles colour before anything else
// loads: chalk (inside Ink) decides its colour level once, when first
// imported, and ignores NO_COLOR by itself. Static imports are hoisted, so the
// real program is loaded with a dynamic import after the environment is set.
//
// Precedence, as Node's own util does it: FORCE_COLOR wins when set; otherwise
// a non-empty NO_COLOR turns colour off.
if (process.env['FORCE_COLOR'] === undefined && process.env['NO_COLOR']) {
	process.env['FORCE_COLOR'] = '0';
}

await import('../cli/main.js');
