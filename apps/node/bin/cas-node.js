#!/usr/bin/env -S node --single-threaded-gc
import '../dist/daemon.js'
