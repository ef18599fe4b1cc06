/* main.c - the hpcpipe command: everything is in the library (hp_main). */
#include "hpcpipe.h"

int main(int argc, char **argv) {
  return hp_main(argc, argv);
}
