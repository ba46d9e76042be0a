// Package handler implements the Azure VM-extension handler contract
// (../../shared/reference/azure-extension.md §2), so that `shir arm handler
// install|enable|disable|update|uninstall` can be the command lines of an
// extension's HandlerManifest.json.
//
// What it does, per the agent's rules:
//
//   - finds HandlerEnvironment.json next to the handler root (or its parent)
//     and reads the config, status, log and heartbeat locations from it;
//   - picks the sequence number from ConfigSequenceNumber, else the highest
//     ^\d+\.settings$ file in the config folder; an empty settings file means
//     "no settings";
//   - decrypts protectedSettings (base64 DER PKCS#7 EnvelopedData) with the
//     VM certificate found by thumbprint (<thumbprint>.crt/.prv PEM files in
//     the agent's folder, configFolder/../..);
//   - keeps replay protection in mrseq (handler root): an enable with a
//     sequence number already applied exits 0 without re-running;
//   - writes status/<seq>.status atomically (temp file + rename) in the
//     documented schema, with messages capped so a file stays far below the
//     agent's 128 KiB limit, for enable, disable and update;
//   - writes the heartbeat file while enable runs, when the environment names
//     one;
//   - bounds each operation by a timeout below the agent's (enable 300 s,
//     others 900 s, uninstall 300 s) so that a terminal status is written
//     before the agent kills the process.
//
// Settings (shir's own extension schema; unknown keys are errors):
//
//	public:    {"nodeName": "vm-1", "properties": {"PORT": "8060", ...}}
//	protected: {"authKey": "SHIR@...", "properties": {"PROXYPASSWORD": "..."}}
//
// enable turns them into installer properties (AUTHKEY, NODENAME, ...),
// validated by package provision, and runs an Installer. No secret (the
// decrypted settings, the key) is ever logged or written to a status file:
// every status message is scrubbed of the protected values.
//
// Decision: on Windows the certificate is looked up as PEM files too (in
// Options.CertDir); the LocalMachine\My store lookup of the real Windows
// agent is not implemented and says so.
package handler
