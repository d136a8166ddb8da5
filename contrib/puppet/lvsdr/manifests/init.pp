# Installs this node's part of an lvsdr tree from its index.json: whole files as file
# resources with their modes; blocks merged into rc.local and ifup-local by
# lvsdr-merge-block, which replaces only the lines between lvsdr's markers, so those
# files stay the host's own; then, when anything changed, index.json's enable and apply
# steps in order (VIPs that leave go down before the new rules load).
#
# The tree is this module's files/out, as `lvsdr compile cluster.json -o
# <modulepath>/lvsdr/files/out` wrote it. Needs puppetlabs-stdlib (parsejson).
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
  $steps = $entry['steps'] ? {
    undef   => [],
    default => $entry['steps']['enable'] + $entry['steps']['apply'],
  }
  $first_step = $steps.empty ? {
    true    => [],
    default => [Exec['lvsdr step 0']],
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
        notify => $first_step,
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
        notify  => $first_step,
      }
    }
  }

  # Each step an argument vector of validated words (paths, unit names): one exec each,
  # run only on a change, each after the one before.
  $steps.each |$i, $step| {
    $next = $i + 1 < $steps.length ? {
      true    => [Exec["lvsdr step ${i + 1}"]],
      default => [],
    }
    exec { "lvsdr step ${i}":
      command     => $step['argv'].join(' '),
      refreshonly => true,
      notify      => $next,
    }
  }
}
