// Devtron's own login code for the lab: the devtron-labs/authenticator module Devtron's
// orchestrator uses (its OIDC client, HandleLogin, HandleCallback and Dex reverse proxy),
// mounted under /orchestrator as Devtron's router mounts it, and the Dex config Devtron
// generates for its Dex (GenerateDexConfigYAML). Nothing here is rewritten: only the wiring a
// test needs, in place of Devtron's Kubernetes client and database.
//
//	devtron-login dex-config -url URL -server-secret S -dex-config FILE  → Devtron's Dex config (YAML)
//	devtron-login serve -url URL -server-secret S -dex ADDR -listen ADDR  → the orchestrator's login
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/devtron-labs/authenticator/client"
	"github.com/golang-jwt/jwt/v4"
)

func config(url, secret, dex, dexConfig string) *client.DexConfig {
	c := &client.DexConfig{
		DexClientID:                "argo-cd",
		DexServerAddress:           dex,
		Url:                        url,
		ServerSecret:               secret,
		UserSessionDurationSeconds: 86400,
		DexConfigRaw:               dexConfig,
	}
	c.DexClientSecret = c.DexOAuth2ClientSecret()
	return c
}

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: devtron-login dex-config|serve [flags]")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	url := fs.String("url", "", "Devtron's URL (devtron-secret url)")
	secret := fs.String("server-secret", "lab-server-secret", "devtron-secret ADMIN_PASSWORD-derived server secret")
	dex := fs.String("dex", "http://127.0.0.1:5556", "Dex's address (DEX_HOST:DEX_PORT)")
	listen := fs.String("listen", "0.0.0.0:8080", "where the orchestrator listens")
	dexConfigFile := fs.String("dex-config", "", "a file with devtron-secret's dex.config")
	_ = fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "dex-config":
		raw, err := os.ReadFile(*dexConfigFile)
		if err != nil {
			log.Fatal(err)
		}
		out, err := (&client.K8sClient{}).GenerateDexConfigYAML(config(*url, *secret, *dex, string(raw)))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(string(out))
	case "serve":
		serve(config(*url, *secret, *dex, ""), *listen)
	default:
		log.Fatalf("unknown command %q", os.Args[1])
	}
}

func serve(c *client.DexConfig, listen string) {
	everyone := func(jwt.MapClaims) bool { return true }
	same := func(u string) string { return u }
	app, dexProxy, err := client.GetOidcClient(c, everyone, same)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/orchestrator/auth/login", app.HandleLogin)
	mux.HandleFunc("/orchestrator/auth/callback", app.HandleCallback)
	mux.HandleFunc("/orchestrator/api/dex/", dexProxy)
	mux.HandleFunc("/orchestrator/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/orchestrator/dashboard") {
			fmt.Fprintln(w, "Devtron dashboard (lab)")
			return
		}
		http.NotFound(w, r)
	})
	l, err := net.Listen("tcp", listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ready: orchestrator on %s, URL %s, Dex at %s\n", listen, c.Url, c.DexServerAddress)
	log.Fatal(http.Serve(l, mux))
}
