/* tl_pcap.h - capture files the DDI tests feed ddid (--read): one HTTP
 * download written with libddi's pcap generator (tl_pcap.c). */
#ifndef CTD_TL_PCAP_H
#define CTD_TL_PCAP_H

/* A capture at path holding one HTTP GET of target (a path, sent raw on the
 * request line) from host, answered 200 with body. Asserts it was written. */
void tl_pcap_download(const char *path, const char *host, const char *target, const char *body);

#endif
