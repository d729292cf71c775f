# CPU time per request, dockerflow-app beside nginx, from bench/run.sh's data file.
# usage: gnuplot -c bench/cpu.gp DATA OUTPUT.png "SUBTITLE"
# DATA: tab-separated lines of row label, service µs/request, nginx µs/request; "#" lines are comments.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,500 font "sans,10"
} else {
  set terminal png size 900,500
}
set output ARG2
set termoption noenhanced
set datafile separator "\t"
set title "CPU time per request (utime + stime of the whole server process / requests)\n" . ARG3
set ylabel "CPU µs per request"
set yrange [0:*]
set grid ytics
set key top left
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
plot ARG1 using 2:xtic(1) title "dockerflow-app" linecolor rgb "#1f77b4", \
     '' using 3 title "nginx" linecolor rgb "#9a9a9a", \
     '' using ($0 - 1.0/6):2:(sprintf("%.2f", $2)) with labels offset 0,0.7 notitle, \
     '' using ($0 + 1.0/6):3:(sprintf("%.2f", $3)) with labels offset 0,0.7 notitle
