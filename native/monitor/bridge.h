/* A container on a named network: its namespace joined to the network's bridge (--bridge-attach).  */
#ifndef SKIFF_MONITOR_BRIDGE_H
#define SKIFF_MONITOR_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>

/* Joins the network namespace at netns_path to a bridge in skiff's rootless network namespace, as
   `spec` says (HOLDER_NETNS,BRIDGE,VETH,DEVICE,IP/PREFIX,GATEWAY|-,MTU[,MAC]): a veth pair (VETH on
   the bridge, DEVICE in the namespace, both up, MTU), the address, lo up and, unless GATEWAY is
   "-", the default route through it.  NULL, or what went wrong (in message).  */
const char *bridge_attach (const char *spec, const char *netns_path, char *message, size_t size);

#endif
