// Package register owns node registration: parsing and validating the
// authentication key (SHIR@id@name@ServiceEndpoint=url@secret[@ca=sha256:hex];
// ReadKey also takes "-" for stdin and "@file"), pinning the control plane's
// certificate from it (the SHA-256 of the server certificate's DER, checked by
// api.PinnedTLSConfig; without a pin the system roots apply), and storing the
// node identity and token that the control plane returns. The installer and
// the agent both use it.
//
// The identity (node and runtime IDs and names, endpoint, pin, token) is one
// JSON document sealed with internal/secret (DPAPI machine scope on Windows,
// AES-256-GCM with the machine key elsewhere) in StateDir/identity.sealed,
// written atomically, 0600. A damaged identity is never overwritten: Load and
// Register report it with a recovery hint.
//
// The MachineID sent at registration is derived from the OS machine identity
// (/etc/machine-id, the Windows MachineGuid), the host name and the absolute
// state directory: registering the same installation again is idempotent,
// while two sandbox nodes on one machine (--root, quickstart) are two nodes.
package register
