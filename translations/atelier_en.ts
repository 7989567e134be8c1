<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>Atelier::DeviceBoardModel</name>
    <message>
        <source>%1 GiB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 MiB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ready to start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not used</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>starting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>loading the model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>idle</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>rendering</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>stopping</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>restarting: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>disabled: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>off</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 it/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>State</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rendering</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Step</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Speed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Left</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Atelier::GalleryModel</name>
    <message>
        <source>The image was written but cannot be read: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1/%2 · %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Starting · %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Failed · %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stopped · %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1
Seed: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Atelier::LibraryModel</name>
    <message>
        <source>Negative prompt: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Seed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Steps: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sampler: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CFG scale: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Size: %1×%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (missing)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Atelier::MainWindow</name>
    <message>
        <source>About Atelier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;Atelier %1&lt;/h3&gt;&lt;p&gt;Queue Stable Diffusion prompts and render them on every GPU at once.&lt;/p&gt;&lt;pre&gt;%2&lt;/pre&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Atelier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Negative prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Describe the image, e.g. a lighthouse at dusk, oil painting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What to avoid, e.g. blurry, low quality</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Add to queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;About Atelier</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Imported %n prompt(s)</source>
        <translation>
            <numerusform>Imported %n prompt</numerusform>
            <numerusform>Imported %n prompts</numerusform>
        </translation>
    </message>
    <message>
        <source>Import problems</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n line(s) could not be imported; the rest were queued.</source>
        <translation>
            <numerusform>%n line could not be imported; the rest were queued.</numerusform>
            <numerusform>%n lines could not be imported; the rest were queued.</numerusform>
        </translation>
    </message>
    <message>
        <source>Import prompts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Prompt files (*.txt *.csv *.json *.jsonl);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Import prompts…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot create the output folder %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot start rendering: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stable Diffusion 1.x checkpoints (*.safetensors)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Gallery</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Render settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Steps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;CFG scale</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Si&amp;ze</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sa&amp;mpler</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Devices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>M&amp;odel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>O&amp;utput</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Built-in test model (abstract noise)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A Stable Diffusion 1.x .safetensors checkpoint or diffusers folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>S&amp;top</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Render</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Render the queue on the checked devices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rendering stopped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No device could go on rendering; the prompts that were not finished are back in the queue. Check the model and the devices, then press Render again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The queue could not be saved: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Queued %n image(s) first</source>
        <translation>
            <numerusform>Queued %n image first</numerusform>
            <numerusform>Queued %n images first</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Queued %n image(s)</source>
        <translation>
            <numerusform>Queued %n image</numerusform>
            <numerusform>Queued %n images</numerusform>
        </translation>
    </message>
    <message>
        <source>Only a waiting item can be edited.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Editing: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The item started before the changes were saved; it renders as it was. Your changes are still in the editor.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Changes saved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>canceled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Check at least one device to render on.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot use %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 of %2 images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 it/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n item(s) waiting</source>
        <translation>
            <numerusform>%n item waiting</numerusform>
            <numerusform>%n items waiting</numerusform>
        </translation>
    </message>
    <message>
        <source>paused</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The settings of what you add next; the queue keeps each item&apos;s own</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>S&amp;eed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>R&amp;andom</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>a whole number</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Images per prompt, with seeds s, s + 1, …</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add &amp;first</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queue this prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queue this prompt before everything that waits</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Save changes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write the editor into the queued item</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel &amp;editing</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop rendering; running items wait again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Res&amp;ume</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Start waiting items again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Let running items finish and start nothing new</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Load the item into the editor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>D&amp;uplicate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queue a copy right after it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Move to &amp;top</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Render it next</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Move to &amp;bottom</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Render it last</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re&amp;try</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queue a failed or canceled item again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Do not render it; a running one stops</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re&amp;move</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove it from the queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>C&amp;lear finished</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove every finished item from the queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the clipboard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 holds no generation parameters: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> (not used: %1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queued the parameters of %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The editor has the parameters of %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 holds no generation parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the dropped text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Paste parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fill the editor from generation parameters (A1111 infotext) on the clipboard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Atelier: queue done</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Every queued image is made (%n this run).</source>
        <translation>
            <numerusform>Every queued image is made (%n this run).</numerusform>
            <numerusform>Every queued image is made (%n this run).</numerusform>
        </translation>
    </message>
    <message>
        <source>Atelier: a device stopped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 was disabled: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Atelier::QueueModel</name>
    <message>
        <source>steps %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CFG %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>seed %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>default settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>queued</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>waiting for a retry: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>running on %1, step %2/%3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>starting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>starting on %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>done</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>canceled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1
Negative: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>State</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attempts</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>The queue cannot be kept on disk: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
