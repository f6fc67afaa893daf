# hash.pl N -- an ordinary Perl job: a hash of strings grown by appending
# (.=) and a hash of arrays grown by push, then walked and sorted.
# heapbench's `perl` program computes each printed value from N on its own
# (workloads/programs/perl.c).
use strict;
use warnings;
my $n = shift;
my (%text, %list);
for my $i (0 .. $n - 1) {
    my $k = "key" . ($i % 5003);
    $text{$k} .= "v$i,";
    push @{ $list{$k} }, $i;
}
my ($len, $elems) = (0, 0);
for my $k (sort keys %text) {
    $len += length $text{$k};
    $elems += scalar @{ $list{$k} };
}
print "keys=", scalar(keys %text), "\n";
print "len=$len\n";
print "elems=$elems\n";
