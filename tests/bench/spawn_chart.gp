# spawn_chart.gp: spawn latency (median µs, log y) against the spawning
# process's memory (MiB, log x), one line per method, from spawn_bench's CSV
# (scenario,method,mem_mib,iterations,median_us,p99_us,mean_us).
#   gnuplot -e "csv='spawn.csv'; out='spawn.png'" tests/bench/spawn_chart.gp

if (!exists("csv")) csv = 'spawn.csv'
if (!exists("out")) out = 'spawn.png'

set terminal pngcairo size 900,560 font "DejaVu Sans,11"
set output out
set key top left box opaque
set grid xtics ytics mxtics mytics lc rgb "#dddddd"
set logscale x 2
set logscale y 10
set format y "%g"
set xlabel "memory held by the spawning process (MiB)"
set ylabel "spawn + wait4 of a static probe, median (µs)"
set title "Spawn latency against parent memory"
set offsets graph 0.05, graph 0.05, 0, 0

# one table per method: with NaN for other methods' rows a line would break
set datafile separator ","
set table $vigil
plot csv using 3:5 skip 1 with table if (strcol(1) eq "spawn" && strcol(2) eq "vigil")
set table $floor
plot csv using 3:5 skip 1 with table if (strcol(1) eq "spawn" && strcol(2) eq "floor")
set table $posix
plot csv using 3:5 skip 1 with table if (strcol(1) eq "spawn" && strcol(2) eq "posix_spawn")
set table $fork
plot csv using 3:5 skip 1 with table if (strcol(1) eq "spawn" && strcol(2) eq "fork")
unset table
set datafile separator whitespace

plot $vigil using 1:2 with linespoints lw 2 pt 7 ps 1.2 lc rgb "#1b9e77" title "vigil spawn\\_process", \
     $floor using 1:2 with linespoints lw 2 pt 5 ps 1.0 dt 2 lc rgb "#555555" title "floor: clone(VM|VFORK)+execve", \
     $posix using 1:2 with linespoints lw 2 pt 9 ps 1.2 lc rgb "#7570b3" title "posix\\_spawn", \
     $fork  using 1:2 with linespoints lw 2 pt 11 ps 1.2 lc rgb "#d95f02" title "fork+execve"
