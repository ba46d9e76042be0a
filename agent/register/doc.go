// Package register owns node registration: parsing and validating the
// authentication key (SHIR@id@name@ServiceEndpoint=url@secret[@ca=sha256:hex]),
// pinning the control plane certificate from it, and storing the node identity
// and token that the control plane returns. The installer and the agent both use it.
package register
