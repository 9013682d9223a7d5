// Placeholder until the CLI lands (issue 2).
console.error('heaptop: not implemented yet');
process.exitCode = 2;
