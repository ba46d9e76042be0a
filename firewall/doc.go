// Package firewall owns the one inbound rule for the remote-access port (8060
// by default): open, check and remove it on Windows Firewall, nftables,
// firewalld, ufw and iptables, tagged so that it is found again and nothing
// else is touched. NOFIREWALL=1 skips it and says which port to open by hand.
package firewall
