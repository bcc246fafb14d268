# Sourced by cluster-e2e.sh: Corosync 3 + Pacemaker 2 moving the group (IPaddr2 VIP, the
# unchanged ocf:heartbeat:ldirectord) between lb0 and lb1, with the client's requests
# running throughout.
# pcmk_config <lbN> [vip-first|ld-first [<ldirectord.cf>]]: the group's order
pcmk_config() {
  local d=$NODES_DIR/$1
  cat > "$d/corosync/corosync.conf" <<CF
totem {
  version: 2
  cluster_name: lvs
  transport: knet
  crypto_cipher: none
  crypto_hash: none
}
nodelist {
  node {
    ring0_addr: 10.9.0.10
    name: lb0
    nodeid: 1
  }
  node {
    ring0_addr: 10.9.0.11
    name: lb1
    nodeid: 2
  }
}
quorum {
  provider: corosync_votequorum
  two_node: 1
}
logging {
  to_logfile: yes
  logfile: /var/log/cluster/corosync.log
  to_syslog: no
  to_stderr: no
  timestamp: on
}
CF
  cp "${3:-$OUT/ldirectord.cf}" "$d/ha.d/ldirectord.cf"
  # The initial CIB: no fencing in a test guest, and a DC elected in seconds rather than
  # the default 20 s; the group prefers lb0 (so it fails back when lb0 returns).
  local op='interval="0" timeout="120s"' vip_xml ld_xml
  vip_xml=$(cat <<XML
        <primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">
          <instance_attributes id="vip-ia">
            <nvpair id="vip-ip" name="ip" value="$VIP"/>
            <nvpair id="vip-mask" name="cidr_netmask" value="24"/>
            <nvpair id="vip-nic" name="nic" value="eth0"/>
          </instance_attributes>
          <operations>
            <op id="vip-monitor" name="monitor" interval="30s" timeout="120s"/>
            <op id="vip-start" name="start" $op/>
            <op id="vip-stop" name="stop" $op/>
          </operations>
        </primitive>
XML
)
  ld_xml=$(cat <<XML
        <primitive id="ld" class="ocf" provider="heartbeat" type="ldirectord">
          <instance_attributes id="ld-ia">
            <nvpair id="ld-configfile" name="configfile" value="/etc/ha.d/ldirectord.cf"/>
          </instance_attributes>
          <operations>
            <op id="ld-monitor" name="monitor" interval="5s" timeout="120s"/>
            <op id="ld-start" name="start" $op/>
            <op id="ld-stop" name="stop" $op/>
          </operations>
        </primitive>
XML
)
  cat > "$d/pacemaker/cib/cib.xml" <<XML
<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="opt-stonith" name="stonith-enabled" value="false"/>
        <nvpair id="opt-dc-deadtime" name="dc-deadtime" value="2s"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources>
      <group id="lvs">
$(if [ "${2:-vip-first}" = ld-first ]; then printf '%s\n%s' "$ld_xml" "$vip_xml"; else printf '%s\n%s' "$vip_xml" "$ld_xml"; fi)
      </group>
    </resources>
    <constraints>
      <rsc_location id="lvs-prefers-lb0" rsc="lvs" node="lb0" score="100"/>
    </constraints>
  </configuration>
  <status/>
</cib>
XML
  chown -R hacluster:haclient "$d/pacemaker/cib"
  chmod 600 "$d/pacemaker/cib/cib.xml"
}
pcmk_start() {
  on "$1" corosync
  on "$1" setsid pacemakerd </dev/null >/dev/null 2>&1 &
}
pcmk_gone() { ! on lb0 pgrep -f pacemaker && ! on lb0 pgrep -x corosync && ! on lb1 pgrep -f pacemaker && ! on lb1 pgrep -x corosync; }
ld_restarted() { local p; p=$(ldpid lb0) && [ -n "$p" ] && [ "$p" != "$1" ] && directs lb0; }
crm() { on "$1" "${@:2}"; }

pcmk_scenario() {
  local n i
  for i in 0 1; do
    n=lb$i
    node_state $n; pcmk_config $n; node_net $n $i; node_boot $n
  done
  ev pm:boot
  pcmk_start lb0; pcmk_start lb1
  ev pm:started
  until_true 300 directs lb0 || { fail pm-start; return 1; }
  ev pm:lb0-directs
  table lb0 | save pm-table-lb0
  # a long-lived connection through lb0 (no sync daemon here: it does not survive lb0)
  stream_start pm || fail pm-stream
  ev pm:stream-up

  # the daemon dies (SIGKILL): the monitor sees it, Pacemaker restarts it in place
  local old; old=$(ldpid lb0)
  echo "$old" | save pm-killed-pid
  ev pm:sigkill
  on lb0 kill -KILL "$old"
  until_true 180 ld_restarted "$old" || fail pm-sigkill-restart
  ev pm:restarted
  ldpid lb0 | save pm-restarted-pid
  crm lb0 crm_mon -1 -r -f 2>&1 | save pm-crm-mon-after-restart
  # clear the failure (an admin's cleanup), so that it does not count against lb0 later
  crm lb0 crm_resource --cleanup --resource ld >/dev/null 2>&1 || fail pm-cleanup

  # lb0 loses power
  ev pm:power-off
  node_power_off lb0
  ev pm:lb0-off
  until_true 300 directs lb1 || { fail pm-failover; return 1; }
  ev pm:lb1-directs-after-failure
  table lb1 | save pm-table-lb1-after-failure

  # lb0 comes back: the group prefers it
  node_net lb0 0; node_boot lb0
  ev pm:lb0-boot
  pcmk_start lb0
  until_true 300 directs lb0 || { fail pm-failback; return 1; }
  ev pm:lb0-directs-after-failback
  until_true 60 idle lb1 || fail pm-failback-lb1-idle
  ev pm:lb1-idle-after-failback
  table lb0 | save pm-table-lb0-after-failback

  # standby: lb0 hands the group to lb1
  crm lb0 crm_attribute --node lb0 --name standby --update on >/dev/null 2>&1 || fail pm-standby-command
  ev pm:standby
  until_true 300 directs lb1 || { fail pm-standby; return 1; }
  ev pm:lb1-directs
  until_true 60 idle lb0 || fail pm-standby-lb0-idle
  ev pm:lb0-idle
  table lb1 | save pm-table-lb1-standby
  # clean stop: the group is stopped (target-role), then the cluster stack
  crm lb1 crm_resource --resource lvs --meta --set-parameter target-role --parameter-value Stopped >/dev/null 2>&1 || fail pm-stop-command
  ev pm:stop
  until_true 120 idle lb1 || fail pm-stop-idle
  ev pm:stopped
  crm lb1 crm_mon -1 -r -f 2>&1 | save pm-crm-mon-end
  for n in lb0 lb1; do
    on $n pkill -TERM -x pacemakerd || true
    until_true 60 sh -c "! nsenter -t $(cat /tmp/cl/$n.pid) -p -m pgrep -f pacemaker-" || fail "pm-$n-pacemaker-exit"
    on $n corosync-cfgtool -H >/dev/null 2>&1 || on $n pkill -TERM -x corosync || true
  done
  until_true 60 pcmk_gone || fail pm-stack-exit
  ev pm:stack-stopped
}
