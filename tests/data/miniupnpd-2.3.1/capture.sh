#!/bin/bash
# capture.sh - rebuild the captures in this folder from miniupnpd in the lab
# (tests/lab/lab.sh).  Needs root and python3; run by hand, not by make check:
#   sudo bash tests/data/miniupnpd-2.3.1/capture.sh [OUTDIR]
# Prints the M-SEARCH timings that README.txt records.

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../lab/lab.sh
. "$here/../../lab/lab.sh"
lab_need_root_tools
out=${1:-$here}
py=(/usr/bin/python3 "$here/capture.py")
trap lab_down EXIT

RTR=$LAB_RTR_LAN_IP
PORT=$LAB_HTTP_PORT
CTL=/ctl/IPConn
V2=urn:schemas-upnp-org:service:WANIPConnection:2
V1=urn:schemas-upnp-org:service:WANIPConnection:1
IGD2=urn:schemas-upnp-org:device:InternetGatewayDevice:2
IGD1=urn:schemas-upnp-org:device:InternetGatewayDevice:1

lan_py() { lab_lan "${py[@]}" "$@"; }
lan2_py() { lab_lan2 "${py[@]}" "$@"; }
soap() { lan_py soap "$RTR" "$PORT" "$CTL" "$@"; }
soap2() { lan2_py soap "$RTR" "$PORT" "$CTL" "$@"; }
addpm() {	# EPORT PROTO CLIENT: AddPortMapping arguments into $args
	args=(NewRemoteHost= "NewExternalPort=$1" "NewProtocol=$2"
	    "NewInternalPort=$1" "NewInternalClient=$3" NewEnabled=1
	    "NewPortMappingDescription=natmapd ${2,,} $1" NewLeaseDuration=3600)
}

lab_init || exit 1
mkdir -p "$out"

# NOTIFY ssdp:alive sent at start: listen before miniupnpd starts
lab_lan "${py[@]}" listen "$LAB_LAN_IP" 6 "$out/ssdp-notify-alive" "$LAB_DIR/ready" \
    >"$LAB_DIR/alive.txt" &
alive=$!
lab_wait 5 test -e "$LAB_DIR/ready" || exit 1
lab_router_start secure_mode=yes || exit 1
wait $alive
echo "== NOTIFY at start"; cat "$LAB_DIR/alive.txt"

echo "== M-SEARCH"
lan_py msearch "$LAB_LAN_IP" 239.255.255.250 "$IGD2" 1 3 "$out/ssdp-msearch-igd2-multicast"
lan_py msearch "$LAB_LAN_IP" "$RTR" "$IGD2" 1 3 "$out/ssdp-msearch-igd2-unicast"
lan_py msearch "$LAB_LAN_IP" 239.255.255.250 "$IGD1" 1 3 "$out/ssdp-msearch-igd1-multicast"
lan_py msearch "$LAB_LAN_IP" "$RTR" "$IGD1" 1 3 "$out/ssdp-msearch-igd1-unicast"

echo "== descriptions"
lan_py get "$RTR" "$PORT" /rootDesc.xml "$out/http-rootdesc"
lan_py get "$RTR" "$PORT" /WANIPCn.xml "$out/http-wanipcn-scpd"

echo "== SOAP (lan = $LAB_LAN_IP, lan2 = $LAB_LAN2_IP, secure_mode=yes)"
soap "$V2" GetExternalIPAddress "$out/soap-getexternalipaddress"
soap "$V1" GetExternalIPAddress "$out/soap-getexternalipaddress-v1"
soap "$V2" GetStatusInfo "$out/soap-getstatusinfo"
addpm 8080 TCP "$LAB_LAN_IP"
soap "$V2" AddPortMapping "$out/soap-addportmapping-ok" "${args[@]}"
addpm 8090 UDP "$LAB_LAN_IP"
soap "$V1" AddPortMapping "$out/soap-addportmapping-v1-ok" "${args[@]}"
soap "$V2" GetSpecificPortMappingEntry "$out/soap-getspecificportmappingentry-ok" \
    NewRemoteHost= NewExternalPort=8080 NewProtocol=TCP
soap "$V2" GetSpecificPortMappingEntry "$out/soap-getspecificportmappingentry-714" \
    NewRemoteHost= NewExternalPort=8099 NewProtocol=TCP
# lan2 asks for the external port lan holds, for itself
addpm 8080 TCP "$LAB_LAN2_IP"
soap2 "$V2" AddPortMapping "$out/soap-addportmapping-718-conflict" "${args[@]}"
# lan2 asks for a free port but for lan's address: refused by secure_mode
addpm 8085 TCP "$LAB_LAN_IP"
soap2 "$V2" AddPortMapping "$out/soap-addportmapping-718-securemode" "${args[@]}"
soap2 "$V2" AddAnyPortMapping "$out/soap-addanyportmapping-ok" \
    NewRemoteHost= NewExternalPort=8080 NewProtocol=TCP NewInternalPort=8080 \
    "NewInternalClient=$LAB_LAN2_IP" NewEnabled=1 \
    "NewPortMappingDescription=natmapd tcp 8080" NewLeaseDuration=3600
soap "$V2" GetGenericPortMappingEntry "$out/soap-getgenericportmappingentry-ok" \
    NewPortMappingIndex=0
soap "$V2" GetGenericPortMappingEntry "$out/soap-getgenericportmappingentry-713" \
    NewPortMappingIndex=99
soap "$V2" DeletePortMapping "$out/soap-deleteportmapping-ok" \
    NewRemoteHost= NewExternalPort=8080 NewProtocol=TCP
# no such mapping any more: miniupnpd 2.3.1 (nftables) still answers 200
soap "$V2" DeletePortMapping "$out/soap-deleteportmapping-missing" \
    NewRemoteHost= NewExternalPort=8080 NewProtocol=TCP
# lan2 deletes the mapping that lan holds (secure_mode)
soap2 "$V2" DeletePortMapping "$out/soap-deleteportmapping-otherhost" \
    NewRemoteHost= NewExternalPort=8090 NewProtocol=UDP
echo "rules now:"; lab_rules

echo "== timing (ms to the first answer, 10 M-SEARCH each, MX: 1)"
printf 'multicast: '; lan_py timing "$LAB_LAN_IP" 239.255.255.250 "$IGD2" 1 10
printf 'unicast:   '; lan_py timing "$LAB_LAN_IP" "$RTR" "$IGD2" 1 10
printf 'multicast MX 3: '; lan_py timing "$LAB_LAN_IP" 239.255.255.250 "$IGD2" 3 5

# NOTIFY ssdp:byebye when miniupnpd stops
rm -f "$LAB_DIR/ready"
lab_lan "${py[@]}" listen "$LAB_LAN_IP" 2 "$out/ssdp-notify-byebye" "$LAB_DIR/ready" \
    >"$LAB_DIR/byebye.txt" &
bye=$!
lab_wait 5 test -e "$LAB_DIR/ready" || exit 1
lab_router_stop
wait $bye
echo "== NOTIFY at stop"; cat "$LAB_DIR/byebye.txt"
