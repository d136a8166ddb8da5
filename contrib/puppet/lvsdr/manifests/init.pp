# Installs this node's part of an lvsdr tree from its index.json: whole files as file
# resources with their modes; blocks merged into rc.local and ifup-local by
# lvsdr-merge-block, which replaces only the lines between lvsdr's markers, so those
# files stay the host's own; then, when anything changed, index.json's steps in order: a
# real server's enable and apply (VIPs that leave go down before the new rules load), a
# director's reload or restart (after its enable steps when a file they act on changed).
#
# The tree is this module's files/out, as `lvsdr compile cluster.json -o
# <modulepath>/lvsdr/files/out` wrote it. Needs puppetlabs-stdlib (parsejson, pick,
# to_json). A director's record of what it applied reaches the catalog as the fact
# lvsdr_director_state (lib/facter).
class lvsdr (
  String $host = $facts['networking']['hostname'],
  String $tree = 'lvsdr/out',
) {
  $index = parsejson(file("${tree}/index.json"))
  $entries = ($index['servers'] + $index['directors']).filter |$h| { $h['name'] == $host }
  if $entries.empty {
    fail("${host} is not a real server or director of cluster ${index['cluster']}; set lvsdr::host")
  }
  $entry = $entries[0]
  $director = !$index['directors'].filter |$d| { $d['name'] == $host }.empty
  if $director {
    # A director records what it applied (its VRRP instance, interface and files' digests)
    # once its steps succeeded: a failed run leaves the record as it was, so the next run
    # takes the change up again though the files are already in place (the steps are due).
    # It runs its enable steps (keepalived at boot, the IPVS modules, firewalld's service:
    # `firewall-cmd --reload`, during which firewalld drops new connections to it) only on
    # a first install or when a file they act on differs from what it last applied: any
    # artifact but the failover configuration and the IPVS table (kinds keepalived,
    # lvs.cf, ipvsadm), and one that appears or goes (a file the record has and the tree no
    # longer has counts: the record does not say what it was), as `lvsdr diff` says. Then
    # it reloads its failover daemon when the VRRP instance and interface are the ones it
    # last applied (fact lvsdr_director_state), and restarts it (or starts it: nothing
    # applied yet) otherwise: a reload re-creates a changed instance on each director at
    # its own moment, and directors that disagree on it do not hear each other. Piranha's
    # reload is its restart.
    $record = {
      'interface' => $entry['interface'],
      'vrrp'      => $entry['vrrp'],
      'files'     => Hash($entry['artifacts'].map |$a| { [$a['install_path'], $a['sha256']] }),
    }
    $applied = pick($facts['lvsdr_director_state'], {})
    # What differs, compared as JSON text, case and all (Puppet's == ignores the case of
    # strings).
    $differs = $record.keys.filter |$key| {
      compare(to_json($applied[$key]), to_json($record[$key]), false) != 0
    }
    $action = ($differs - 'files').empty ? {
      true    => 'reload',
      default => 'restart',
    }
    $failover = $entry['artifacts'].filter |$a| {
      $a['kind'] in ['keepalived', 'lvs.cf', 'ipvsadm']
    }.map |$a| { $a['install_path'] }
    $recorded = $applied['files'] ? {
      Hash    => $applied['files'],
      default => {},
    }
    $enabling = ($recorded.keys + $record['files'].keys).unique - $failover
    $enable = $applied.empty or !$enabling.filter |$path| {
      compare(to_json($recorded[$path]), to_json($record['files'][$path]), false) != 0
    }.empty
    $steps = ($enable ? {
      true    => $entry['steps']['enable'],
      default => [],
    }) + $entry['steps'][$action]
    $due = !$differs.empty
  } else {
    $steps = $entry['steps']['enable'] + $entry['steps']['apply']
    $due = false
  }
  # A change to a file refreshes the steps, each the next; steps that are due run anyway,
  # after the files, each after the one before, and once: an exec that ran would run
  # again when refreshed.
  $link = $due ? {
    true    => 'before',
    default => 'notify',
  }

  file { ['/var/lib/lvsdr', '/var/lib/lvsdr/blocks']:
    ensure => directory,
    owner  => 'root',
    group  => 'root',
    mode   => '0700',
  }
  file { '/var/lib/lvsdr/lvsdr-merge-block':
    ensure => file,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
    source => 'puppet:///modules/lvsdr/lvsdr-merge-block',
  }

  $entry['artifacts'].each |$artifact| {
    if $artifact['install'] == 'file' {
      file { $artifact['install_path']:
        ensure => file,
        owner  => 'root',
        group  => 'root',
        mode   => $artifact['mode'],
        source => "puppet:///modules/${tree}/${artifact['path']}",
        *      => { $link => Exec['lvsdr step 0'] },
      }
    } else {
      # The fragment is staged on the node, then merged; `unless` keeps a merged file
      # untouched, so a second run changes nothing.
      $staged = "/var/lib/lvsdr/blocks/${artifact['id']}"
      file { $staged:
        ensure => file,
        owner  => 'root',
        group  => 'root',
        mode   => '0600',
        source => "puppet:///modules/${tree}/${artifact['path']}",
      }
      exec { "lvsdr merge ${artifact['install_path']}":
        command => "/var/lib/lvsdr/lvsdr-merge-block ${artifact['install_path']} ${staged} ${artifact['mode']}",
        unless  => "/var/lib/lvsdr/lvsdr-merge-block --check ${artifact['install_path']} ${staged} ${artifact['mode']}",
        require => [File[$staged], File['/var/lib/lvsdr/lvsdr-merge-block']],
        *       => { $link => Exec['lvsdr step 0'] },
      }
    }
  }

  # Each step an argument vector of validated words (paths, unit names): one exec each,
  # run only on a change (or when due), each after the one before.
  $steps.each |$i, $step| {
    $next = $i + 1 < $steps.length ? {
      true    => [Exec["lvsdr step ${$i + 1}"]],
      default => [],
    }
    exec { "lvsdr step ${i}":
      command     => $step['argv'].join(' '),
      refreshonly => !$due,
      *           => { $link => $next },
    }
  }

  if $director {
    # Once every step succeeded (Puppet skips what depends on a failed resource).
    file { '/var/lib/lvsdr/director-state.json':
      ensure  => file,
      owner   => 'root',
      group   => 'root',
      mode    => '0644',
      content => "${to_json_pretty($record)}\n",
      require => Exec["lvsdr step ${$steps.length - 1}"],
    }
  }
}
