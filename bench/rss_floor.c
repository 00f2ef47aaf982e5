/* rss_floor TCTI: the resident memory of a process that only loads the
 * agent's shared libraries and uses each once (a TLS server context with
 * an RSA key and one signature, an evhttp server, one TPM command through
 * ESAPI, a JSON parse, a CRC-32), then prints its VmRSS in KiB. The agent's
 * RSS beside it (bench_agent.sh) shows what the agent's own code and data
 * cost on this machine, whose kernel maps library pages in large folios. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>
#include <zlib.h>

static long
vm_rss_kib(void)
{
    char line[128];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");

    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

static int
use_openssl(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    EVP_PKEY *key = EVP_RSA_gen(2048);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char sig[512];
    size_t len = sizeof(sig);
    int ok = ctx && key && md && SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
             EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestSign(md, sig, &len, (const unsigned char *)"x", 1) == 1;

    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    SSL_CTX_free(ctx);
    return ok ? 0 : -1;
}

static int
use_tpm(const char *tcti_conf)
{
    TSS2_TCTI_CONTEXT *tcti = NULL;
    ESYS_CONTEXT *esys = NULL;
    TPM2B_DIGEST *rnd = NULL;
    int ok = Tss2_TctiLdr_Initialize(tcti_conf, &tcti) == TSS2_RC_SUCCESS &&
             Esys_Initialize(&esys, tcti, NULL) == TSS2_RC_SUCCESS &&
             Esys_GetRandom(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, 16, &rnd) ==
                 TSS2_RC_SUCCESS;

    Esys_Free(rnd);
    Esys_Finalize(&esys);
    Tss2_TctiLdr_Finalize(&tcti);
    return ok ? 0 : -1;
}

int
main(int argc, char **argv)
{
    struct event_base *base = event_base_new();
    struct evhttp *http = base ? evhttp_new(base) : NULL;
    json_t *doc = json_loads("{\"a\": [1, 2, 3]}", 0, NULL);
    uLong crc = crc32(0, (const Bytef *)"x", 1);

    if (argc != 2 || !http || !doc || crc == 0 || use_openssl() != 0 || use_tpm(argv[1]) != 0) {
        fprintf(stderr, "usage: rss_floor TCTI (every library must work once)\n");
        return 1;
    }
    printf("%ld\n", vm_rss_kib());
    json_decref(doc);
    evhttp_free(http);
    event_base_free(base);
    return 0;
}
