/* Search for the site opened from disk (file://).

   Material's search runs in a Web Worker, and browsers refuse to start a worker from a file://
   page. There this script replaces Worker with a stand-in that runs the worker's script in a
   hidden iframe: the iframe's window plays the worker's global scope (self, addEventListener,
   postMessage), so Material's search script runs unchanged, on the page's thread. Material's
   offline plugin does the other half: it writes the search index as a script
   (search/search_index.js), because a file:// page cannot fetch the JSON either.

   It must load before Material's bundle, which creates the worker: mkdocs.yml lists it under
   extra.polyfills (loaded in the page's head). Served over http(s), the real Worker stays. */
(function () {
  if (location.protocol !== "file:") {
    return;
  }

  class FrameWorker extends EventTarget {
    constructor(url) {
      super();
      this.queued = []; // messages posted before the script has loaded
      const frame = document.createElement("iframe");
      frame.hidden = true;
      document.body.appendChild(frame);
      this.scope = frame.contentWindow;
      // A worker's messages are copies (structured clone), made in the receiver's realm.
      this.scope.postMessage = (data) =>
        this.dispatchEvent(new MessageEvent("message", { data: structuredClone(data) }));
      const script = this.scope.document.createElement("script");
      script.src = new URL(url, location.href).href;
      script.onload = () => {
        this.loaded = true;
        this.queued.splice(0).forEach((data) => this.postMessage(data));
      };
      this.scope.document.head.appendChild(script);
    }

    postMessage(data) {
      if (!this.loaded) {
        this.queued.push(data);
        return;
      }
      const copy = this.scope.structuredClone(data);
      // later, as a worker answers asynchronously: the page's code subscribes after posting
      setTimeout(() => this.scope.dispatchEvent(new this.scope.MessageEvent("message", { data: copy })));
    }
  }

  window.Worker = FrameWorker;
})();
