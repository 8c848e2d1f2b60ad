// The browser worker's Chromium command line, beside the defaults playwright-core adds itself.

// Chromium refuses these ports outright (ERR_UNSAFE_PORT) to stop web pages talking to other
// protocols; exposed web services do listen on some of them, and every destination here is
// already fenced by the probe scope.
const allowedUnsafePorts = [6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080];

/**
 * Chromium reads only the last `--disable-features`, so this one repeats playwright-core's own
 * (its chromiumSwitches.ts; a test checks that this still covers it) and adds the omnibox popup:
 * a browser UI that Chromium preloads in a renderer of its own for every context, never shown in a
 * headless browser, and about a quarter of the CPU each page took (docs/benchmarks.md).
 */
export const disabledFeatures = [
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'TcpPortRandomizationWin',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
  'msForceBrowserSignIn',
  'msEdgeUpdateLaunchServicesPreferredVersion',
  'WebUIOmniboxPopup',
  'WebUIOmniboxAimPopup',
];

export function chromiumArgs(): string[] {
  return [
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    `--disable-features=${disabledFeatures.join(',')}`,
    `--explicitly-allowed-ports=${allowedUnsafePorts.join(',')}`,
    // WebRTC could otherwise send UDP to any address; this keeps it to the (scope-checked) proxy.
    '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
    // Chromium's sandbox cannot start as root; in production run the browser worker as another user.
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
  ];
}
