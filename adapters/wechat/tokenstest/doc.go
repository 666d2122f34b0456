// Package tokenstest proves the shared WeChat access token
// (wechat.SharedTokens) the way a deployment runs it: several replicas,
// each with its own copy and its own connection pool, on one PostgreSQL
// database, against the WeChat simulator, on fake clocks. It holds only
// tests; they live apart from package wechat's so that this package's
// TestMain (pgtest) is nobody else's.
package tokenstest
