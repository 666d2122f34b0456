// Package ports declares the small interfaces the use-cases in app/ need from
// the outside world: the outbound side of the hexagon (stores, WeChat, token
// signing, object storage, the clock). Adapters implement them; app/ sees
// nothing else. One file per aggregate. Interfaces between two adapters (the
// local-disk storage and the HTTP API) are not ports: they live in package
// localstore.
package ports
