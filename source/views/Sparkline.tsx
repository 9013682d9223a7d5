// Sparkline: one row of a series — label, the newest points as a line of
// block characters, and min / max / last written beside it. Takes a Series
// from the store and a width; draws, with no I/O.
import React from 'react';
import {Box, Text} from 'ink';
import {tail, type Series} from '../store/store.js';

/** Eight heights, low to high. */
const blocks = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;
const asciiBlocks = ['_', '.', '-', '~', '=', '+', '*', '#'] as const;

/** Columns taken by the label; by each figure's value ("2.86 MiB/s"); by all three figures. */
export const labelWidth = 12;
const valueWidth = 10;
export const figuresWidth = 'min '.length + '  max '.length + '  last '.length + 3 * valueWidth;

/**
 * Draws `values` as one character per point, right-aligned in `width`
 * columns (newest at the right edge). The lowest bar is `floor`: 0 for
 * durations and rates, so heights compare; the minimum for levels such as
 * heap live, so small changes show.
 */
export function sparkline(values: readonly number[], width: number, {ascii = false, floor = 'zero' as 'zero' | 'min'} = {}): string {
	const ramp = ascii ? asciiBlocks : blocks;
	const points = values.slice(-width);
	if (points.length === 0) return ' '.repeat(Math.max(0, width));
	const max = Math.max(...points);
	const lo = floor === 'zero' ? 0 : Math.min(...points);
	const span = max - lo;
	const line = points.map(v => ramp[span > 0 ? Math.min(7, Math.floor(((v - lo) / span) * 8)) : 0]).join('');
	return line.padStart(width);
}

export type Props = {
	readonly label: string;
	readonly series: Series;
	/** Columns for the line itself. */
	readonly width: number;
	readonly format: (value: number) => string;
	readonly color: string;
	readonly floor?: 'zero' | 'min';
	readonly ascii?: boolean;
	/** Shown instead of the figures while the series is empty. */
	readonly empty?: string;
};

export default function Sparkline({label, series, width, format, color, floor = 'zero', ascii = false, empty = 'no data yet'}: Props) {
	const shown = tail(series, width);
	const figure = (name: string, value: number) => `${name} ${format(value).padStart(valueWidth)}`;
	return (
		<Box>
			<Box width={labelWidth} flexShrink={0}>
				<Text bold>{label}</Text>
			</Box>
			<Text color={color} wrap="truncate">
				{sparkline(shown.values, width, {ascii, floor})}
			</Text>
			<Text> </Text>
			{shown.values.length === 0 ? (
				<Text dimColor wrap="truncate">
					{empty}
				</Text>
			) : (
				<Text wrap="truncate">
					{figure('min', shown.min)}  {figure('max', shown.max)}  {figure('last', shown.last)}
				</Text>
			)}
		</Box>
	);
}
