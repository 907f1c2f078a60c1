// Placeholder until the apps exist: the real budget check lands with them.
console.log('bundle sizes: not measured yet')
